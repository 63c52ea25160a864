import { randomBytes } from "node:crypto";
import postgres from "postgres";

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates `sift_scale_<random>` on the server of `adminUrl` (a database the caller may connect to). */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const name = `sift_scale_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const session = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await session.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await session.end({ timeout: 5 });
      }
    },
  };
}
