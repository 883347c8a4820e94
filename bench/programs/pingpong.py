# mpi4py counterpart of bench/programs/pingpong.ts: comm.send/comm.recv ping-pong of the same small
# dict between ranks 0 and 1, every round trip timed; rank 0 prints the median round trip as JSON.
# Usage: mpirun -n 2 python3 bench/programs/pingpong.py [count]
import json
import statistics
import sys
import time

from mpi4py import MPI

comm = MPI.COMM_WORLD
count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
warmup = 2000
now = time.perf_counter


def small(i):
    return {"tag": "accept", "value": 123456789, "round": i}


if comm.Get_rank() == 0:
    rtts = []
    for i in range(warmup + count):
        t0 = now()
        comm.send(small(i), dest=1, tag=0)
        comm.recv(source=1, tag=0)
        if i >= warmup:
            rtts.append(now() - t0)
    print(json.dumps({"rttUs": statistics.median(rtts) * 1e6}))
elif comm.Get_rank() == 1:
    for i in range(warmup + count):
        m = comm.recv(source=0, tag=0)
        comm.send(small(m["round"]), dest=0, tag=0)
