#ifndef GRAPE_CZLIB_SHIM_H
#define GRAPE_CZLIB_SHIM_H
#include <zlib.h>
#endif
