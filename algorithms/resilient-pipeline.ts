/**
 * A three-stage pipeline that survives the loss of its middle stage: rank 0 produces the numbers
 * 0..items-1, rank 1 doubles them, rank 2 sums what it gets and reports the sum to rank 0.
 *
 * When rank 1 dies, rank 2's receive from it fails with DS_ERR_PEER_LOST, but rank 0 may be waiting
 * on rank 2, which is alive, so nothing would wake it. Whoever sees a failure revokes the
 * communicator (ULFM's MPIX_Comm_revoke): every member's pending operations on it then fail with
 * DS_ERR_REVOKED, so every survivor reaches shrink(). The survivors agree to go on (agree), and rank
 * 0 sends rank 2 the items it has not summed yet; rank 2 doubles them itself.
 */
import { defineTags, DsError, ErrorCode, isDsError, type Communicator } from 'dsmpi';

/** Message names; the tag registry gives them numbers no other algorithm uses. */
export const Tag = defineTags('resilient-pipeline', ['Item', 'Sum', 'Resume']);

export interface PipelineOptions {
  items: number;
  /** Rank 0 waits this long between two items (so a crash can land mid-stream). */
  periodMs: number;
}

export interface PipelineReport {
  /** The final sum (rank 0 and the last stage), undefined elsewhere. */
  sum?: number;
  /** Whether the pipeline went on over the survivors after a failure. */
  recovered: boolean;
}

/** The sum the pipeline computes: the doubled numbers 0..items-1. */
export function expectedSum(items: number): number {
  return items * (items - 1);
}

export async function pipeline(world: Communicator, options: PipelineOptions): Promise<PipelineReport> {
  if (world.size !== 3) throw new DsError(ErrorCode.InvalidArgument, `pipeline: needs 3 ranks, got ${world.size}`);
  const stage2 = { sum: 0, count: 0 };
  try {
    const sum = await runStages(world, options, stage2);
    return { sum, recovered: false };
  } catch (err) {
    if (!isDsError(err, ErrorCode.PeerLost) && !isDsError(err, ErrorCode.Revoked)) throw err;
    world.revoke(); // wake every survivor, wherever it waits
  }
  const survivors = await world.shrink();
  world.note('shrunk', { survivors: survivors.size });
  if (!(await survivors.agree(survivors.size === 2))) throw new DsError(ErrorCode.PeerLost, 'pipeline: lost more than the middle stage');
  return { sum: await finishOverSurvivors(survivors, world.rank, options, stage2), recovered: true };
}

async function runStages(
  world: Communicator,
  options: PipelineOptions,
  stage2: { sum: number; count: number },
): Promise<number | undefined> {
  if (world.rank === 0) {
    for (let i = 0; i < options.items; i++) {
      await world.send(i, 1, Tag.Item);
      await world.clock.sleep(options.periodMs);
    }
    return (await world.recv<number>(2, Tag.Sum)).data;
  }
  if (world.rank === 1) {
    for (let i = 0; i < options.items; i++) await world.send(2 * (await world.recv<number>(0, Tag.Item)).data, 2, Tag.Item);
    return undefined;
  }
  for (let i = 0; i < options.items; i++) {
    stage2.sum += (await world.recv<number>(1, Tag.Item)).data;
    stage2.count++;
  }
  await world.send(stage2.sum, 0, Tag.Sum);
  return stage2.sum;
}

/** Over the two survivors (old ranks 0 and 2): the last stage says where it stopped, the first resumes there. */
async function finishOverSurvivors(
  survivors: Communicator,
  oldRank: number,
  options: PipelineOptions,
  stage2: { sum: number; count: number },
): Promise<number> {
  if (oldRank === 0) {
    const from = (await survivors.recv<number>(1, Tag.Resume)).data;
    for (let i = from; i < options.items; i++) await survivors.send(i, 1, Tag.Item);
    return (await survivors.recv<number>(1, Tag.Sum)).data;
  }
  survivors.note('resume', { from: stage2.count });
  await survivors.send(stage2.count, 0, Tag.Resume);
  for (let i = stage2.count; i < options.items; i++) stage2.sum += 2 * (await survivors.recv<number>(0, Tag.Item)).data;
  await survivors.send(stage2.sum, 0, Tag.Sum);
  return stage2.sum;
}
