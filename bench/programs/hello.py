# The mpi4py side of the start-up comparison: import mpi4py, MPI_Init, print, finalize.
from mpi4py import MPI

comm = MPI.COMM_WORLD
print(f"hello from rank {comm.Get_rank()} of {comm.Get_size()}")
