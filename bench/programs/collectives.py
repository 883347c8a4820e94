# mpi4py collective latencies (OSU style), the counterpart of bench/programs/collectives.ts:
# barrier, bcast of the small dict from rank 0, allreduce of a float with SUM. Every call is timed
# on every rank after 100 warm-up calls; timed bcast/allreduce calls are separated by an untimed
# barrier. Each figure is the average over ranks of each rank's median; rank 0 prints JSON.
# Usage: mpirun -n N python3 bench/programs/collectives.py [iterations]
import json
import statistics
import sys
import time

from mpi4py import MPI

WARMUP = 100
TARGET_S = 0.5
MIN_ITERS, MAX_ITERS = 50, 200000

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
fixed = int(sys.argv[1]) if len(sys.argv) > 1 else None
now = time.perf_counter


def time_op(call, separate):
    w0 = now()
    for i in range(WARMUP):
        call(i)
        if separate:
            comm.barrier()
    per_call = (now() - w0) / WARMUP
    iters = comm.bcast(fixed or min(MAX_ITERS, max(MIN_ITERS, round(TARGET_S / per_call))), root=0)
    times = []
    for i in range(iters):
        start = now()
        call(i)
        times.append(now() - start)
        if separate:
            comm.barrier()
    return statistics.median(times) * 1e6


barrier_us = time_op(lambda i: comm.barrier(), False)
comm.barrier()
bcast_us = time_op(
    lambda i: comm.bcast({"tag": "accept", "value": 123456789, "round": i} if rank == 0 else None, root=0), True
)
comm.barrier()
value = float(rank)
allreduce_us = time_op(lambda i: comm.allreduce(value, op=MPI.SUM), True)

rows = comm.gather([barrier_us, bcast_us, allreduce_us], root=0)
if rank == 0:
    avg = lambda k: sum(r[k] for r in rows) / len(rows)
    print(json.dumps({"n": size, "barrierUs": avg(0), "bcastUs": avg(1), "allreduceUs": avg(2)}), flush=True)
