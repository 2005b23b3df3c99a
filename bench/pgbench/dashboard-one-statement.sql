-- The dashboard page's SQL for pgbench (BENCHMARKS.md, "Why the dashboard target ... is out of reach"):
-- run against pearls_bench_1000 seeded with --scale 1000 --anchor 2026-11-24 (deterministic ids):
--   pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 8 -j 2 -T 10 -f bench/pgbench/dashboard-one-statement.sql pearls_bench_1000
SELECT "app_user"."id", "app_user"."email", "app_user"."name", "app_user"."role", "app_user"."organisation_id", "app_user"."country_code", "app_user"."active", "app_user"."password_hash", "organisation"."id", "organisation"."name" FROM "app_user" LEFT JOIN "organisation" ON "app_user"."organisation_id" = "organisation"."id" WHERE "app_user"."id" = 'f3e3718c-a750-4658-9dfb-b39ca94c2f91' LIMIT 1;
SELECT (SELECT count(*) FROM application WHERE submitted_at IS NOT NULL AND edition_id = (SELECT id FROM edition WHERE title_year = 2027)) AS total,
 json_agg(json_build_object('title', a.title, 'status', a.status,
   'municipality', json_build_object('name', o.name, 'country', o.country_code),
   'mentors', (SELECT json_agg(json_build_object('kind', ma.kind, 'name', u.name, 'email', u.email) ORDER BY ma.created_at, ma.id) FROM mentor_assignment ma JOIN app_user u ON u.id = ma.mentor_id WHERE ma.application_id = a.id),
   'plan', (SELECT json_build_object('version', p.submitted_version) FROM plan p WHERE p.application_id = a.id AND p.submitted_version > 0),
   'latest', (SELECT json_build_object('to', sc.to_status, 'at', sc.changed_at) FROM application_status_change sc WHERE sc.application_id = a.id ORDER BY sc.changed_at DESC, sc.id DESC LIMIT 1)
 ) ORDER BY a.updated_at DESC, a.id)
FROM (SELECT * FROM application WHERE submitted_at IS NOT NULL AND edition_id = (SELECT id FROM edition WHERE title_year = 2027) ORDER BY updated_at DESC, id LIMIT 21) a
JOIN organisation o ON o.id = a.lead_municipality_id;
