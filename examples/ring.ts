// A token goes round the ring of ranks k times (default 3); each rank adds one on every pass.
// Usage: dsrun -n 4 examples/ring.ts [k]
import { run } from 'dsmpi';
import { intArg } from './lib/args.ts';

const TOKEN = 1;

await run(async (world) => {
  const laps = intArg(1, 'laps', 3, 1);
  const next = (world.rank + 1) % world.size;
  const prev = (world.rank - 1 + world.size) % world.size;
  if (world.rank === 0) {
    let token = 0;
    for (let lap = 1; lap <= laps; lap++) {
      await world.send(token + 1, next, TOKEN);
      token = (await world.recv<number>(prev, TOKEN)).data;
      world.note('lap', { lap, token });
      console.log(`lap ${lap}: token = ${token}`);
    }
  } else {
    for (let lap = 1; lap <= laps; lap++) {
      const { data } = await world.recv<number>(prev, TOKEN);
      await world.send(data + 1, next, TOKEN);
    }
  }
});
