#ifndef GRAPE_CTIFF_SHIM_H
#define GRAPE_CTIFF_SHIM_H
#include <tiffio.h>
#endif
