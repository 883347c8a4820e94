/* The Open MPI side of the large-message comparison: two ranks exchange `mib` MiB messages
 * (MPI_Sendrecv) `rounds` times after one warm-up exchange; rank 0 prints GB/s per direction and
 * each rank's peak RSS over the message size, as one JSON line.
 *   mpicc -O2 -o exchange bench/programs/exchange.c && mpirun -n 2 --mca btl tcp,self ./exchange 256 5 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  long mib = argc > 1 ? atol(argv[1]) : 256, rounds = argc > 2 ? atol(argv[2]) : 5;
  size_t size = (size_t)mib << 20;
  char *out = malloc(size), *in = malloc(size);
  memset(out, rank + 1, size);
  memset(in, 0, size);
  int peer = 1 - rank;
  MPI_Sendrecv(out, (int)size, MPI_BYTE, peer, 0, in, (int)size, MPI_BYTE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  double t0 = MPI_Wtime();
  for (long r = 0; r < rounds; r++)
    MPI_Sendrecv(out, (int)size, MPI_BYTE, peer, 0, in, (int)size, MPI_BYTE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  double seconds = MPI_Wtime() - t0;
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double ratio = usage.ru_maxrss * 1024.0 / size, ratios[2];
  MPI_Gather(&ratio, 1, MPI_DOUBLE, ratios, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  if (rank == 0)
    printf("{\"gbPerSec\":%.3f,\"rssRatio0\":%.3f,\"rssRatio1\":%.3f}\n", (double)size * rounds / seconds / 1e9, ratios[0], ratios[1]);
  free(out);
  free(in);
  MPI_Finalize();
  return 0;
}
