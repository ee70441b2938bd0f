// Open MPI's C interface (Debian: libopenmpi-dev, found through pkg-config `ompi-c`).
#include <mpi.h>

// MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM … are macros over Open MPI's predefined objects, which
// Swift cannot import; these functions hand them over.
static inline MPI_Comm align_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype align_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype align_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype align_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype align_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op align_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op align_mpi_max(void) { return MPI_MAX; }
static inline void *align_mpi_in_place(void) { return MPI_IN_PLACE; }
