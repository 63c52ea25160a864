CREATE TABLE "feed_candidates" (
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "feed_candidates_tenant_user_id_collection_document_id_pk" PRIMARY KEY("tenant","user_id","collection","document_id")
);
--> statement-breakpoint
CREATE TABLE "feed_documents" (
	"tenant" text NOT NULL,
	"collection" text NOT NULL,
	"document_id" text NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "feed_documents_tenant_collection_document_id_pk" PRIMARY KEY("tenant","collection","document_id")
);
--> statement-breakpoint
CREATE TABLE "feed_events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "feed_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"at" bigint NOT NULL,
	"record" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "feed_item_states" (
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"item_id" text NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "feed_item_states_tenant_user_id_item_id_pk" PRIMARY KEY("tenant","user_id","item_id")
);
--> statement-breakpoint
CREATE TABLE "feed_models" (
	"tenant" text NOT NULL,
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"model" jsonb NOT NULL,
	CONSTRAINT "feed_models_tenant_name_version_pk" PRIMARY KEY("tenant","name","version")
);
--> statement-breakpoint
CREATE TABLE "feed_profiles" (
	"tenant" text NOT NULL,
	"user_id" text NOT NULL,
	"collections" text[] NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "feed_profiles_tenant_user_id_pk" PRIMARY KEY("tenant","user_id")
);
--> statement-breakpoint
CREATE TABLE "feed_served" (
	"tenant" text NOT NULL,
	"request_id" text NOT NULL,
	"user_id" text NOT NULL,
	"at" bigint NOT NULL,
	"record" jsonb NOT NULL,
	CONSTRAINT "feed_served_tenant_request_id_pk" PRIMARY KEY("tenant","request_id")
);
--> statement-breakpoint
CREATE INDEX "feed_candidates_document_idx" ON "feed_candidates" USING btree ("tenant","collection","document_id");--> statement-breakpoint
CREATE INDEX "feed_events_tenant_at_idx" ON "feed_events" USING btree ("tenant","at","seq");--> statement-breakpoint
CREATE INDEX "feed_events_user_idx" ON "feed_events" USING btree ("tenant","user_id","at");--> statement-breakpoint
CREATE INDEX "feed_profiles_collections_idx" ON "feed_profiles" USING gin ("collections");--> statement-breakpoint
CREATE INDEX "feed_served_tenant_at_idx" ON "feed_served" USING btree ("tenant","at");