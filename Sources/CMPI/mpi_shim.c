#include "grape_mpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *handle_t;
#define MPI_THREAD_FUNNELED 1
#define MPI_IN_PLACE ((void *)1)

static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_initialized)(int *);
static int (*p_finalized)(int *);
static int (*p_finalize)(void);
static int (*p_comm_rank)(handle_t, int *);
static int (*p_comm_size)(handle_t, int *);
static int (*p_allreduce)(const void *, void *, int, handle_t, handle_t, handle_t);
static int (*p_bcast)(void *, int, handle_t, int, handle_t);
static int (*p_barrier)(handle_t);
static int (*p_abort)(handle_t, int);
static handle_t comm_world, type_float, type_double, type_byte, op_sum, op_max, op_min;

int grape_mpi_load(char *error, size_t error_length) {
  if (p_allreduce) return 0;
  const char *path = getenv("GRAPE_MPI_LIBRARY");
  const char *candidates[] = {path, "libmpi.so.40", "libmpi.so"};
  void *lib = NULL;
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates && !lib; i++) {
    if (candidates[i] && *candidates[i]) lib = dlopen(candidates[i], RTLD_NOW | RTLD_GLOBAL);
  }
  if (!lib) {
    snprintf(error, error_length, "cannot open Open MPI's libmpi (libmpi.so.40; set GRAPE_MPI_LIBRARY to its path): %s", dlerror());
    return 1;
  }
#define FIND(var, name)                                                                   \
  do {                                                                                    \
    *(void **)(&var) = dlsym(lib, name);                                                  \
    if (!var) {                                                                           \
      snprintf(error, error_length, "libmpi lacks %s: only Open MPI is supported", name); \
      return 1;                                                                           \
    }                                                                                     \
  } while (0)
  FIND(p_init_thread, "MPI_Init_thread");
  FIND(p_initialized, "MPI_Initialized");
  FIND(p_finalized, "MPI_Finalized");
  FIND(p_finalize, "MPI_Finalize");
  FIND(p_comm_rank, "MPI_Comm_rank");
  FIND(p_comm_size, "MPI_Comm_size");
  FIND(p_bcast, "MPI_Bcast");
  FIND(p_barrier, "MPI_Barrier");
  FIND(p_abort, "MPI_Abort");
  FIND(comm_world, "ompi_mpi_comm_world");
  FIND(type_float, "ompi_mpi_float");
  FIND(type_double, "ompi_mpi_double");
  FIND(type_byte, "ompi_mpi_byte");
  FIND(op_sum, "ompi_mpi_op_sum");
  FIND(op_max, "ompi_mpi_op_max");
  FIND(op_min, "ompi_mpi_op_min");
  FIND(p_allreduce, "MPI_Allreduce");
#undef FIND
  return 0;
}

int grape_mpi_init(int *rank, int *size) {
  int ready = 0, rc;
  if ((rc = p_initialized(&ready))) return rc;
  if (!ready) {
    int provided = 0;
    if ((rc = p_init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided))) return rc;
  }
  if ((rc = p_comm_rank(comm_world, rank))) return rc;
  return p_comm_size(comm_world, size);
}

int grape_mpi_finalize(void) {
  int done = 0;
  if (!p_finalized || p_finalized(&done) || done) return 0;
  return p_finalize();
}

static int allreduce(void *buffer, size_t count, size_t width, handle_t type, handle_t op) {
  char *at = buffer;
  while (count > 0) {
    int n = count > INT_MAX ? INT_MAX : (int)count;
    int rc = p_allreduce(MPI_IN_PLACE, at, n, type, op, comm_world);
    if (rc) return rc;
    at += (size_t)n * width;
    count -= (size_t)n;
  }
  return 0;
}

int grape_mpi_allreduce_sum_float(float *b, size_t n) { return allreduce(b, n, sizeof *b, type_float, op_sum); }
int grape_mpi_allreduce_sum_double(double *b, size_t n) { return allreduce(b, n, sizeof *b, type_double, op_sum); }
int grape_mpi_allreduce_max_double(double *b, size_t n) { return allreduce(b, n, sizeof *b, type_double, op_max); }
int grape_mpi_allreduce_min_double(double *b, size_t n) { return allreduce(b, n, sizeof *b, type_double, op_min); }

int grape_mpi_broadcast_bytes(void *buffer, size_t count, int root) {
  char *at = buffer;
  while (count > 0) {
    int n = count > INT_MAX ? INT_MAX : (int)count;
    int rc = p_bcast(at, n, type_byte, root, comm_world);
    if (rc) return rc;
    at += n;
    count -= (size_t)n;
  }
  return 0;
}

int grape_mpi_barrier(void) { return p_barrier(comm_world); }

void grape_mpi_abort(int code) {
  if (p_abort) p_abort(comm_world, code);
  exit(code);
}
