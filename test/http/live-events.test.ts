/**
 * The live stream's documented event schemas against real events: every event a run with a hand-off, a
 * FLOOD_WAIT pause, skips and a stop emits is, as presented, one of the documented ones (closed schemas: a field
 * added without its documentation fails too), and a hand-off names its group and why it moved.
 */
import { describe, expect, it } from 'vitest';
import { explainReason } from '../../src/core/reasons.js';
import { DEFAULT_RUNTIME_OPTIONS } from '../../src/runtime/options.js';
import { SimulatedWorld } from '../../src/runtime/simulation.js';
import { LiveEvent, presentEvent } from '../../src/http/sse.js';
import { schemaErrors } from '../support/openapi.js';

const groups = Array.from({ length: 6 }, (_, i) => `-100${2_200_000_000 + i}`);

describe('GET /api/bot/events data', () => {
  it('every event of a run is documented; a hand-off names its group, its sessions and why', async () => {
    const world = new SimulatedWorld();
    // s0 may not write in the first group, s1 may: that post is handed to s1. s2 is told to wait 30 s.
    await world.putGroup({ key: groups[0]!, readOnly: ['s0'] });
    await world.fault({ session: 's2', error: 'FLOOD_WAIT_30' });
    const botId = world.addBot({
      mode: 'enterprise',
      settings: { minGroupGapSeconds: 0 },
      sessions: [{ id: 's0' }, { id: 's1' }, { id: 's2' }],
      groups,
    });
    world.runtime.startBot(botId);
    await world.runCycles(botId, 2);
    await world.runtime.stopBot(botId);

    const presented = world.events.map((e) => presentEvent(e, DEFAULT_RUNTIME_OPTIONS));
    const types = new Set(presented.map((e) => e.type));
    for (const type of ['post.handed_off', 'post.sent', 'session.paused', 'cycle.finished', 'bot.stopped'])
      expect(types).toContain(type);
    for (const event of presented) {
      expect(schemaErrors(LiveEvent, event), JSON.stringify(event)).toEqual([]);
    }
    const handOff = presented.find((e) => e.type === 'post.handed_off')!;
    const handOffSchema = LiveEvent.anyOf.find((v) => v.properties.type.const === 'post.handed_off')!;
    expect(schemaErrors(handOffSchema, handOff)).toEqual([]);
    expect(handOff).toMatchObject({
      groupKey: groups[0],
      fromSessionId: 's0',
      toSessionId: 's1',
      reason: 'write_forbidden',
      reasonText: explainReason('handoff', 'write_forbidden', DEFAULT_RUNTIME_OPTIONS),
    });
    expect(handOff.reasonText).toMatch(/^Handed over to another session: its session may not write/);
  });
});
