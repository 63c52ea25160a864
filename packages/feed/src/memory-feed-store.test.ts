import { feedStoreContract } from "./feed-store-contract";
import { MemoryFeedStore } from "./memory-feed-store";

feedStoreContract("memory", () => new MemoryFeedStore());
