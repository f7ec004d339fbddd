/**
 * How the API makes a stored start or stop take effect. In one process (`stagger serve`) it tells the local
 * runtime directly; with workers on PostgreSQL it notifies the bot's owner (see the cluster module).
 */
import type { Runtime } from './runtime.js';

export interface BotControl {
  /** The bot's desired state is now `running` in the store. */
  started(botId: string): Promise<void>;
  /** The bot's desired state is now `stopped` in the store; the rest of its cycle is cancelled. */
  stopped(botId: string): Promise<void>;
}

export class LocalBotControl implements BotControl {
  constructor(private readonly runtime: Runtime | null) {}

  async started(botId: string): Promise<void> {
    this.runtime?.startBot(botId);
  }

  async stopped(botId: string): Promise<void> {
    await this.runtime?.stopBot(botId, 'cancel');
  }
}
