// What the agent API answers. Request bodies and paths are generated from the
// API's OpenAPI description (schema.d.ts); these are the answers' shapes.

export type Role = "agent" | "lead" | "admin";
export type Status = "bot" | "queued" | "assigned" | "resolved";
export type Priority = "low" | "normal" | "high" | "urgent";

export interface Me {
  agent: string;
  role: Role;
  teams: string[];
}

export interface SlaClock {
  metric: string;
  due_at_ms: number | null;
  warn_at_ms: number | null;
  breached_at_ms: number | null;
  running_since_ms: number | null;
  target_minutes: number;
  mode: string;
}

export interface Frustration {
  total: number;
  caps: number;
  lexicon: number;
  punctuation: number;
  repeat: number;
  lexicon_words?: string[];
}

export interface Escalation {
  at_ms: number;
  reason: string;
  trigger: string;
  triggers: { name: string; detail: string }[];
}

export interface Ticket {
  id: string;
  customer: string;
  contact_name: string | null;
  customer_tier: string;
  status: Status;
  team: string;
  tier: number;
  priority: Priority;
  assignee: string | null;
  created_at_ms: number;
  updated_at_ms: number;
  last_customer_message_at_ms: number | null;
  first_response_at_ms: number | null;
  resolved_at_ms: number | null;
  order_number: string | null;
  csat: number | null;
  tags?: string[];
  version: number;
  messages_sent: number;
  escalations: Escalation[];
  context: {
    category: string | null;
    intent: string | null;
    language: string | null;
    frustration: Frustration | null;
  };
  sla: {
    clocks: SlaClock[];
    policy: string;
    waiting_on_customer_since_ms: number | null;
  } | null;
}

export interface TicketPage {
  tickets: Ticket[];
  next_cursor: string | null;
  view: string;
  teams: string[];
}

export interface Counts {
  mine: number;
  teams: Record<string, { open: number; unassigned: number; at_risk: number; waiting: number }>;
}

export interface TimelineEntry {
  id: string;
  at_ms: number;
  direction: "inbound" | "outbound" | "event" | "internal";
  kind: string;
  summary: string;
  author: { type: string; name?: string };
  delivery?: string;
  delivery_error?: string;
  withdrawn?: boolean;
  data?: Record<string, unknown>;
  message?: Record<string, unknown>;
}

export interface MediaItem {
  wamid: string;
  kind: string;
  mime: string;
  caption: string | null;
  size: number;
  at_ms: number;
  hidden: boolean;
  refused: string | null;
  partial: string[];
  quality: { width: number; height: number; brightness: number; sharpness: number; problems: string[] } | null;
  vision: {
    labels: { name: string; confidence: number }[];
    moderation: { name: string; confidence: number }[];
    text: string[];
  } | null;
  exif: { edited: boolean; software: string | null; camera: string | null; missing_camera_data: boolean } | null;
  duplicates: { ticket_id?: string; ticket?: string; wamid?: string; distance?: number }[];
  signals: string[];
  suggested_category: string | null;
  suggested_team: string | null;
}

export interface Presence {
  agent: string;
  activity: "viewing" | "typing";
  until_ms: number;
}

export interface Customer {
  id: string;
  phone: string | null;
  phone_withheld: boolean;
  user_id: string | null;
  username: string | null;
}

export interface TicketDetail {
  ticket: Ticket;
  version: number;
  timeline: TimelineEntry[];
  media: MediaItem[];
  presence: Presence[];
  customer: Customer;
  customer_profile: {
    language: string | null;
    tier: string;
    consent?: { status: string; source: string; by: string; at_ms: number } | null;
  } | null;
  window: { open: boolean; closes_at_ms: number | null };
  history: string;
}

export interface Canned {
  id: string;
  title: string;
  template: string;
  text: string | null;
  missing: string[];
  tags: string[];
}

export interface Template {
  name: string;
  language: string;
  category: string;
  body: string;
  parameters: number;
  quick_replies: string[];
  customer_language: boolean;
}

export interface ApiErrorBody {
  code: string;
  error: string;
  current?: { ticket?: Ticket; version?: number; recent?: TimelineEntry[] } | null;
}
