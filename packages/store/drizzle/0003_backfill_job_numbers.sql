-- Custom migration (drizzle-kit generate --custom): number the jobs that existed before job numbers,
-- 1, 2, 3 … per collection in id order, and start each collection's counter after its last job.
UPDATE "ingestion_jobs" AS j SET "number" = n."number"
FROM (
  SELECT "id", row_number() OVER (PARTITION BY "collection_id" ORDER BY "id") AS "number"
  FROM "ingestion_jobs"
) AS n
WHERE j."id" = n."id" AND j."number" = 0;
--> statement-breakpoint
UPDATE "collections" AS c SET "job_counter" = m."last"
FROM (SELECT "collection_id", max("number") AS "last" FROM "ingestion_jobs" GROUP BY "collection_id") AS m
WHERE c."id" = m."collection_id" AND c."job_counter" < m."last";
