import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * The API key format: `sift_` + 43 base62 characters of secret (32 random bytes, 256 bits) + 6 base62
 * characters of CRC32 over everything before them. 54 characters in all, matched by `apiKeyPattern`.
 *
 * - The prefix lets secret scanners (and people) recognise a leaked key; the checksum lets them tell a
 *   real key from random text without asking us, and lets the service refuse a mistyped key without a
 *   store lookup.
 * - Only `hashApiKey(key)` (sha256, hex) is stored. A slow password hash buys nothing for 256 random
 *   bits (nobody can enumerate them) and would cost milliseconds on every request (docs/adr/0009).
 */
export const apiKeyPrefix = "sift_";
export const apiKeyPattern = /^sift_[0-9A-Za-z]{49}$/;
/** For scanners: finds keys inside text. */
export const apiKeySearchPattern = /\bsift_[0-9A-Za-z]{49}\b/g;

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const secretChars = 43; // 62^43 > 2^256
const checksumChars = 6; // 62^6 > 2^32

function base62(value: bigint, width: number): string {
  let out = "";
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = alphabet[Number(rest % 62n)]! + out;
    rest /= 62n;
  }
  return out;
}

function checksumOf(body: string): string {
  return base62(BigInt(crc32(body)), checksumChars);
}

/** A new random key (shown once to whoever asked for it; never stored). */
export function generateApiKey(): string {
  const body = apiKeyPrefix + base62(BigInt(`0x${randomBytes(32).toString("hex")}`), secretChars);
  return body + checksumOf(body);
}

/** True when `text` has the key format and its checksum holds (says nothing about whether it exists). */
export function isWellFormedApiKey(text: string): boolean {
  if (!apiKeyPattern.test(text)) return false;
  const body = text.slice(0, -checksumChars);
  return checksumOf(body) === text.slice(-checksumChars);
}

/** sha256 of the whole key, hex: what the store keeps and looks keys up by. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Compares two hex digests in constant time (lengths are public). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What lists show of a key: the prefix and the first 7 secret characters (41 of 256 bits). */
export function previewOf(key: string): string {
  return `${key.slice(0, apiKeyPrefix.length + 7)}…`;
}

/** A new public key id: `key_` + 16 hex characters (random, so ids reveal no count). */
export function generateKeyId(): string {
  return `key_${randomBytes(8).toString("hex")}`;
}
