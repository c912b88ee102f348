import type { Role, User } from "@mcs/protocol";
import type { Db } from "../db/db.ts";
import type { Actor } from "./device-store.ts";
import { writeAudit } from "./audit-store.ts";

export interface UserRecord extends User {
  password_hash: string;
}

export class UserStore {
  constructor(private readonly db: Db) {}

  async findByUsername(username: string): Promise<UserRecord | null> {
    const [row] = await this.db.query<UserRecord>(`SELECT id, username, role, password_hash FROM users WHERE username = $1`, [username]);
    return row ?? null;
  }

  async get(id: number): Promise<User | null> {
    const [row] = await this.db.query<User>(`SELECT id, username, role FROM users WHERE id = $1`, [id]);
    return row ?? null;
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    return row?.n ?? 0;
  }

  async create(username: string, passwordHash: string, role: Role, actor: Actor): Promise<User> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<User>(
        `INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id, username, role`,
        [username, passwordHash, role],
      );
      await writeAudit(tx, { actor: actor.name, ip: actor.ip, action: "user.create", target: username, after: row });
      return row!;
    });
  }
}
