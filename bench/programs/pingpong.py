# mpi4py's side of the small-message round trip, the counterpart of bench/programs/pingpong.ts: ranks 0
# and 1 send the small dict back and forth with the pickle-based send/recv; every round trip is timed
# after a warm-up, and rank 0 prints the median in µs as JSON.
# Usage: mpirun -n 2 python3 bench/programs/pingpong.py [iterations]
import json
import statistics
import sys
import time

from mpi4py import MPI

comm = MPI.COMM_WORLD
rank = comm.Get_rank()
count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
warmup = 2000
now = time.perf_counter


def small(i):
    return {"tag": "accept", "value": 123456789, "round": i}


if rank == 0:
    rtts = []
    for i in range(warmup + count):
        t0 = now()
        comm.send(small(i), dest=1)
        comm.recv(source=1)
        if i >= warmup:
            rtts.append(now() - t0)
    print(json.dumps({"rttUs": statistics.median(rtts) * 1e6}), flush=True)
elif rank == 1:
    for i in range(warmup + count):
        m = comm.recv(source=0)
        comm.send(small(m["round"]), dest=0)
