//! GraphiQL, served at `GET /graphql` in development: GraphiQL 4.1.2 with React 18.3.1
//! (production builds) and graphql-ws 5.16.2 from unpkg, each pinned to its exact version with
//! a subresource-integrity hash, so a changed file on the CDN is refused by the browser instead
//! of run. The headers editor starts with an `Authorization` template; subscriptions go over
//! `/graphql/ws` (graphql-transport-ws) with those headers as the `connection_init` payload.
//!
//! To move to other versions: `npm pack graphiql@V react@V react-dom@V graphql-ws@V`, unpack,
//! and take `openssl dgst -sha384 -binary FILE | openssl base64 -A` of each file named below
//! (unpkg serves the package files byte for byte).

/// The page.
pub const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>BSR Cultural Pearls API</title>
<style>body { margin: 0; } #graphiql { height: 100vh; }</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@4.1.2/graphiql.css"
  integrity="sha384-1el1QShFBnnXTx9x/Cprg82hZWKt0ry29OAYIXt05swbi0KcZDFoj0CWguMpopJr" crossorigin="anonymous">
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"
  integrity="sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z" crossorigin="anonymous"></script>
<script src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"
  integrity="sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1" crossorigin="anonymous"></script>
<script src="https://unpkg.com/graphql-ws@5.16.2/umd/graphql-ws.min.js"
  integrity="sha384-+EVxFEOpy8LWPRQcpntm0FKN2O+BzrMNSL0G3HIgVWFmeb6xqZqjuLivrQUTXZKi" crossorigin="anonymous"></script>
<script src="https://unpkg.com/graphiql@4.1.2/dist/index.umd.js"
  integrity="sha384-9XdHu7ajgGJziD4J1zNBKQ842Q/+zZfDv+ib1eMhZWBH6hPAs806x+Jbcf0yNO6B" crossorigin="anonymous"></script>
<script>
  const url = new URL('/graphql', location.href).href;
  const wsUrl = url.replace(/^http/, 'ws') + '/ws';
  const http = GraphiQL.createFetcher({ url });

  // The type of the operation that will run: the named one, or the document's first.
  function kindOf(query, operationName) {
    const text = query.replace(/#[^\n]*/g, '');
    const ops = [...text.matchAll(/(^|[}\s])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
    const op = operationName ? ops.find((m) => m[3] === operationName) : ops[0];
    return op ? op[2] : 'query';
  }

  // A subscription as an async iterator, on its own socket whose connection_init carries the
  // headers editor's content (the server reads "Authorization" from it).
  function subscribe(params, headers) {
    const client = graphqlWs.createClient({ url: wsUrl, connectionParams: headers || {}, lazy: true });
    const queue = [];
    let wake = null;
    let finished = false;
    const push = (item) => { queue.push(item); if (wake) { wake(); wake = null; } };
    const dispose = client.subscribe(params, {
      next: (value) => push({ value }),
      error: (error) => push({ error }),
      complete: () => push({ done: true }),
    });
    const end = () => {
      finished = true;
      if (wake) { wake(); wake = null; }
      dispose();
      client.dispose();
    };
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        while (!queue.length && !finished) await new Promise((r) => { wake = r; });
        const item = queue.shift();
        if (!item || item.done) { end(); return { done: true, value: undefined }; }
        if (item.error) { end(); throw item.error; }
        return { done: false, value: item.value };
      },
      async return() { end(); return { done: true, value: undefined }; },
    };
  }

  // The template's placeholder is not a token: until it is replaced, requests go anonymous.
  function realHeaders(headers) {
    const out = Object.assign({}, headers || {});
    for (const k of Object.keys(out)) {
      if (/^authorization$/i.test(k) && /<[^>]*>/.test(String(out[k]))) delete out[k];
    }
    return out;
  }

  function fetcher(params, opts) {
    const headers = realHeaders(opts && opts.headers);
    if (kindOf(params.query || '', params.operationName) === 'subscription') {
      return subscribe(params, headers);
    }
    return http(params, Object.assign({}, opts, { headers }));
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultHeaders: '{\n  "Authorization": "Bearer <accessToken from the login mutation>"\n}',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    }),
  );
</script>
</body>
</html>
"#;
