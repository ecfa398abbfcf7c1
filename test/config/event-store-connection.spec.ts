import { EventStoreDBClient } from '@eventstore/db-client';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** Parses with the real client 6.2.1: a string config accepts must be one the client can use. */
async function clientParses(connectionString: string): Promise<boolean> {
  try {
    const client = EventStoreDBClient.connectionString(connectionString);
    await client.dispose();
    return true;
  } catch {
    return false;
  }
}

describe('EVENTSTORE_CONNECTION_STRING', () => {
  it.each([
    ['esdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false'],
    ['esdb+discover://node1:2113,node2:2113', 'esdb+discover://node1:2113,node2:2113'],
    ['kurrentdb://admin:changeit@localhost:2113?tls=false', 'esdb://admin:changeit@localhost:2113?tls=false'],
    ['kurrentdb+discover://cluster.example.com:2113', 'esdb+discover://cluster.example.com:2113'],
    ['kdb://localhost:2113?tls=false', 'esdb://localhost:2113?tls=false'],
    ['kdb+discover://cluster.example.com:2113', 'esdb+discover://cluster.example.com:2113'],
  ])('accepts %s as a string the client parses: %s', async (given, used) => {
    const config = loadConfig({ EVENTSTORE_CONNECTION_STRING: given });

    expect(config.EVENTSTORE_CONNECTION_STRING).toBe(used);
    expect(await clientParses(config.EVENTSTORE_CONNECTION_STRING!)).toBe(true);
  });

  it('translates because the client itself refuses the KurrentDB schemes', async () => {
    expect(await clientParses('kurrentdb://localhost:2113?tls=false')).toBe(false);
    expect(await clientParses('kdb://localhost:2113?tls=false')).toBe(false);
  });

  it.each(['postgres://x', 'esdb:/localhost', 'kurrent://localhost:2113', 'esdb+srv://localhost'])('refuses %s', (given) => {
    expect(() => loadConfig({ EVENTSTORE_CONNECTION_STRING: given })).toThrow(ConfigError);
  });
});
