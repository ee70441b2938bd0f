// The OpenBLAS CBLAS interface (Debian: libopenblas-dev, found through pkg-config `openblas`).
#include <cblas.h>

// OpenBLAS extensions used to report and control the BLAS thread pool.
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
char *openblas_get_config(void);
