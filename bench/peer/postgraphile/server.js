#!/usr/bin/env node
// PostGraphile 4.14.1 as a benchmark peer of the portal's GraphQL API (bench/run --peer postgraphile).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/pearls_bench_1 PORT=18081 node server.js
//
// One process, no cluster, no watch mode, no GraphiQL, no extended errors, no query batching,
// default body size limit (100kB), no query log. It listens only once the schema is built, so
// "the port answers" means "ready"; GET /healthz answers 200 then. GET /metrics prints one
// counter, pearls_db_statements_total (SQL statements sent to PostgreSQL), in the portal's
// format, so bench/run's statements-per-request and drain() work unchanged. Set
// PEER_COUNT_STATEMENTS=0 to skip that wrapper (it only increments an integer per query).
//
// Environment: DATABASE_URL (required), PORT (default 18081), HOST (default 127.0.0.1),
// PG_SCHEMA (default public), PG_POOL_MAX (default 10; bench/run sets the portal's pool size),
// EXPORT_SCHEMA (optional path: write the GraphQL SDL there once built).
"use strict";

const http = require("http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}
const PORT = Number(process.env.PORT || 18081);
const HOST = process.env.HOST || "127.0.0.1";
const SCHEMA = process.env.PG_SCHEMA || "public";
const COUNT = process.env.PEER_COUNT_STATEMENTS !== "0";

const pool = new Pool({
  connectionString: DATABASE_URL,
  max: Number(process.env.PG_POOL_MAX || 10),
});

let statements = 0;
if (COUNT) {
  pool.on("connect", (client) => {
    const query = client.query;
    client.query = function countedQuery(...args) {
      statements += 1;
      return query.apply(this, args);
    };
  });
}

const middleware = postgraphile(pool, SCHEMA, {
  // Production-like: nothing that a deployment would switch off.
  watchPg: false,
  graphiql: false,
  enhanceGraphiql: false,
  subscriptions: false,
  live: false,
  enableQueryBatching: false,
  extendedErrors: [],
  showErrorStack: false,
  disableQueryLog: true,
  allowExplain: false,
  enableCors: false,
  retryOnInitFail: false,
  graphqlRoute: "/graphql",
  // bodySizeLimit: left at its default ("100kB").
  // Schema shape.
  ignoreRBAC: false,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  disableDefaultMutations: true,
  legacyRelations: "omit",
  appendPlugins: [ConnectionFilterPlugin, PgSimplifyInflectorPlugin],
  // EXPORT_SCHEMA=file writes the GraphQL SDL there at start-up (to read the inferred relations).
  exportGqlSchemaPath: process.env.EXPORT_SCHEMA || undefined,
  sortExport: true,
  graphileBuildOptions: {
    // Needed for `edition: {titleYear: …}` and `applicationCoApplicants: {some: …}` filters.
    connectionFilterRelations: true,
  },
});

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  if (req.method === "GET" && req.url === "/metrics") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(
      "# HELP pearls_db_statements_total SQL statements sent to PostgreSQL by the peer.\n" +
        "# TYPE pearls_db_statements_total counter\n" +
        `pearls_db_statements_total ${statements}\n`
    );
    return;
  }
  middleware(req, res);
});

middleware
  .getGraphQLSchema()
  .then(() => {
    server.listen(PORT, HOST, () => {
      console.error(`postgraphile peer listening on http://${HOST}:${PORT}/graphql (pid ${process.pid})`);
    });
  })
  .catch((e) => {
    console.error("schema build failed:", e);
    process.exit(1);
  });

function stop() {
  server.close(() => {
    middleware.release().then(() => pool.end()).then(() => process.exit(0));
  });
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
