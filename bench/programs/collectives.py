# mpi4py collective latencies, the counterpart of bench/programs/collectives.ts (same method):
# barrier, bcast of the small dict from a turning root, allreduce of a float with SUM. After 100 warm-up
# iterations every rank times, in turn, a barrier alone and the op followed by a barrier. The
# barrier figure is the median barrier; an op's figure is its median (op + barrier) minus the
# median barrier of the same loop, which does not depend on how staggered ranks leave the barrier.
# Each figure is the average over ranks; rank 0 prints JSON. First, the same warm-up as the
# TypeScript program's (Python has no JIT to warm, but both sides then run the same calls).
# Usage: mpirun -n N python3 bench/programs/collectives.py [iterations]
import json
import statistics
import sys
import time

from mpi4py import MPI

WARMUP = 100
TARGET_S = 0.5
MIN_ITERS, MAX_ITERS = 50, 200000
WARM_UP_ROUND, WARM_UP_LIMIT_S = 300, 30.0

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
fixed = int(sys.argv[1]) if len(sys.argv) > 1 else None
now = time.perf_counter


def time_iterations(call):
    """Medians (µs) of a barrier alone and of `call` followed by a barrier, interleaved."""

    def iteration(i):
        comm.barrier()
        if call:
            call(i)
            comm.barrier()

    w0 = now()
    for i in range(WARMUP):
        iteration(i)
    per_iteration = (now() - w0) / WARMUP
    iters = comm.bcast(fixed or min(MAX_ITERS, max(MIN_ITERS, round(TARGET_S / per_iteration))), root=0)
    alone, with_call = [], []
    for i in range(iters):
        t0 = now()
        comm.barrier()
        t1 = now()
        if call:
            call(i)
            comm.barrier()
        alone.append(t1 - t0)
        with_call.append(now() - t1)
    return statistics.median(alone) * 1e6, statistics.median(with_call) * 1e6


def cost_of(call):
    """What `call` adds to a barrier-separated loop; the interleaved barriers see the same noise."""
    alone, with_call = time_iterations(call)
    return with_call - alone


def warm_up():
    """As warmUp in collectives.ts: rounds of all three until the best of the last three is no
    more than 5% faster than the best before them."""
    begin, rounds = now(), []
    while True:
        t0 = now()
        for i in range(WARM_UP_ROUND):
            comm.barrier()
            comm.bcast({"tag": "accept", "value": 123456789, "round": i} if rank == i % size else None, root=i % size)
            comm.allreduce(float(rank), op=MPI.SUM)
        rounds.append(now() - t0)
        k = len(rounds) - 3
        steady = (k >= 1 and min(rounds[k:]) > 0.95 * min(rounds[:k])) or now() - begin > WARM_UP_LIMIT_S
        if comm.bcast(steady if rank == 0 else None, root=0):
            return


warm_up()
barrier_us = time_iterations(None)[0]
# The root turns, as in the TypeScript program.
bcast_us = cost_of(
    lambda i: comm.bcast({"tag": "accept", "value": 123456789, "round": i} if rank == i % size else None, root=i % size)
)
value = float(rank)
allreduce_us = cost_of(lambda i: comm.allreduce(value, op=MPI.SUM))

rows = comm.gather([barrier_us, bcast_us, allreduce_us], root=0)
if rank == 0:
    avg = lambda k: sum(r[k] for r in rows) / len(rows)
    print(json.dumps({"n": size, "barrierUs": avg(0), "bcastUs": avg(1), "allreduceUs": avg(2)}), flush=True)
