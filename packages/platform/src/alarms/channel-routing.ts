import { isWithinSchedule, type AlarmLevel, type AlarmType } from "@mcs/core";
import type { ChannelRecord } from "../stores/channel-store.ts";

/** What routing needs to know of an alarm event. */
export interface RoutedEvent {
  sn: string;
  type: AlarmType;
  level: AlarmLevel;
  /** When it happened, Unix ms: the schedule is checked at that moment. */
  at: number;
}

/**
 * Does this channel hear this event? `first` is the first word of an alarm (raised, level
 * up, repeats); `escalation` is the word to an escalation group after its delay. A channel
 * with no rules set hears every alarm at every hour: narrowing is a deliberate act.
 */
export function channelHears(channel: ChannelRecord, event: RoutedEvent, phase: "first" | "escalation"): boolean {
  if (!channel.enabled) return false;
  if ((phase === "escalation") !== channel.escalate_after_min > 0) return false;
  if (channel.sns !== null && !channel.sns.includes(event.sn)) return false;
  if (channel.types !== null && !channel.types.includes(event.type)) return false;
  if (event.level < channel.min_level) return false;
  return isWithinSchedule(channel.schedule, event.at) || (event.level === 2 && channel.level2_always);
}
