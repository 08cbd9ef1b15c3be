#ifndef GRAPE_CBLAS_SHIM_H
#define GRAPE_CBLAS_SHIM_H
#include <cblas.h>

/* OpenBLAS thread control, declared in its cblas.h; wrapped so that callers need no
   OpenBLAS-specific names. */
static inline void grape_blas_set_threads(int n) { openblas_set_num_threads(n); }
static inline int grape_blas_get_threads(void) { return openblas_get_num_threads(); }
#endif
