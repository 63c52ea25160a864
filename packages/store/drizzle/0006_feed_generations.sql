CREATE TABLE "feed_generations" (
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"generation" bigint NOT NULL,
	CONSTRAINT "feed_generations_tenant_user_id_pk" PRIMARY KEY("tenant","user_id")
);
