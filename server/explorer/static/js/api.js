// The one way the explorer talks to the server: POST /graphql, like any other client.
import { showError } from "./ui.js";

const KEY = "contentintel.apiKey";
export const apiKey = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => (value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

let pending = 0;
let busyTimer = null;
function busy(delta) {
  // "Loading…" appears only for requests that take more than 200 ms.
  pending += delta;
  const el = document.getElementById("busy");
  if (pending > 0 && busyTimer === null) {
    busyTimer = setTimeout(() => { el.hidden = false; }, 200);
  } else if (pending === 0) {
    clearTimeout(busyTimer);
    busyTimer = null;
    el.hidden = true;
  }
}

const AUTH_HELP = "Paste an API key in the “API key” field above (an admin creates one with "
  + "`contentintel keys create --role viewer --name you`).";

// Runs a query; returns its data. A request that fails outright throws an ApiError with a
// readable message; errors next to partial data are shown (never swallowed) and the data
// returned, so a view shows what did resolve.
export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = apiKey.get();
  if (key) headers.Authorization = `Bearer ${key}`;
  busy(+1);
  let response;
  let body = null;
  try {
    response = await fetch("/graphql", {
      method: "POST", headers, body: JSON.stringify({ query, variables }),
    });
    body = await response.json().catch(() => null);
  } catch (error) {
    throw new ApiError(`Cannot reach the server (${error.message}).`, "NETWORK");
  } finally {
    busy(-1);
  }
  const errors = body?.errors ?? [];
  const code = errors[0]?.extensions?.code;
  const said = errors.map((e) => e.message).join("; ");
  if (response.status === 401 || code === "UNAUTHENTICATED") {
    const problem = key ? `The server refused the API key (${said || "401"}).` : "This server needs an API key.";
    throw new ApiError(`${problem} ${AUTH_HELP}`, "UNAUTHENTICATED");
  }
  if (response.status === 403 || code === "FORBIDDEN") {
    throw new ApiError(`Your API key is not allowed to do this: ${said || "403 Forbidden"}.`, "FORBIDDEN");
  }
  if (!body?.data) {
    throw new ApiError(said || `The server answered ${response.status}.`, code ?? "HTTP");
  }
  for (const error of errors) {
    const where = error.path ? ` (${error.path.join(".")})` : "";
    showError(`${error.message}${where}`);
  }
  return body.data;
}

// Reads every page of a list that takes `first`/`after` by title id (similarityMap).
export async function allMapNodes(fields, filter = null, page = 2000) {
  const query = `query Map($first: Int!, $after: ID, $filter: TitleFilter) {
    similarityMap(first: $first, k: 0, after: $after, filter: $filter) { nodes { ${fields} } } }`;
  const nodes = [];
  let after = null;
  for (;;) {
    const data = await gql(query, { first: page, after, filter });
    const got = data.similarityMap.nodes;
    nodes.push(...got);
    if (got.length < page) return nodes;
    after = got[got.length - 1].title.id;
  }
}
