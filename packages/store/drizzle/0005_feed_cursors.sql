CREATE TABLE "feed_cursors" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"chunk_id" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "feed_cursors_tenant_collection_pk" PRIMARY KEY("tenant","collection")
);
