/** Receive from any source (MPI_ANY_SOURCE). */
export const ANY_SOURCE = -1;
/** Receive with any tag (MPI_ANY_TAG). */
export const ANY_TAG = -1;
/** The null process: a send to it completes at once, a receive from it yields `{ source: PROC_NULL, data: undefined }`. */
export const PROC_NULL = -2;
/** The color that gives no communicator in `split` (MPI_UNDEFINED). */
export const UNDEFINED = -3;
/** Largest user tag (MPI guarantees at least 32767; we allow 2^31 - 1). */
export const TAG_UB = 0x7fffffff;
