#ifndef GRAPE_MPI_H
#define GRAPE_MPI_H
/* MPI, loaded at run time.

   The toolkit builds and runs without MPI: nothing here links against libmpi. When a command is
   started by mpirun or srun, grape_mpi_load() opens Open MPI's libmpi (libmpi.so.40, or the path
   in GRAPE_MPI_LIBRARY) with dlopen and looks up the few functions and predefined handles that
   data-parallel training uses. Open MPI's handles are pointers to exported objects
   (ompi_mpi_comm_world, ompi_mpi_float, ...), which is what this file relies on; other MPI
   implementations are refused by name at load time.

   Every call returns 0 on success or an MPI error code; counts beyond INT_MAX are sent in
   pieces. */

#include <stddef.h>

/* Opens libmpi and resolves its symbols. 0 on success; otherwise writes a reason to `error`. */
int grape_mpi_load(char *error, size_t error_length);
/* MPI_Init_thread (MPI_THREAD_FUNNELED) unless MPI is already initialised; rank and size of
   MPI_COMM_WORLD. */
int grape_mpi_init(int *rank, int *size);
int grape_mpi_finalize(void);
/* In place over MPI_COMM_WORLD. */
int grape_mpi_allreduce_sum_float(float *buffer, size_t count);
int grape_mpi_allreduce_sum_double(double *buffer, size_t count);
int grape_mpi_allreduce_max_double(double *buffer, size_t count);
int grape_mpi_allreduce_min_double(double *buffer, size_t count);
int grape_mpi_broadcast_bytes(void *buffer, size_t count, int root);
int grape_mpi_barrier(void);
/* MPI_Abort on MPI_COMM_WORLD: every rank stops. */
void grape_mpi_abort(int code);

#endif
