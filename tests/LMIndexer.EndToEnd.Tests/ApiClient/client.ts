// An outside client of the API: types generated from the served OpenAPI document by
// openapi-typescript (api.d.ts), calls through openapi-fetch, every response checked against the
// document's schema with Ajv. Type errors fail `tsc`; a wrong status or shape fails the run.
// Usage: node out/client.js BASE_URL ADMIN_KEY CATALOG_KEY OPENAPI_JSON ITEM_ID
import createClient from "openapi-fetch";
import type { paths } from "./api.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { readFileSync } from "node:fs";

const [baseUrl, adminKey, catalogKey, documentPath, knownItem] = process.argv.slice(2);
const document = JSON.parse(readFileSync(documentPath, "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...document, $id: "api" });

let checked = 0;
function conforms(path: string, method: string, response: Response, body: unknown): void {
  const pointer = ["paths", path, method, "responses", String(response.status), "content", response.headers.get("content-type")!.split(";")[0], "schema"]
    .map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
  const validate = ajv.getSchema(`api#/${pointer}`);
  if (!validate) throw new Error(`${method.toUpperCase()} ${path}: status ${response.status} is not declared in the document`);
  if (!validate(body)) throw new Error(`${method.toUpperCase()} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`);
  checked++;
}

const api = createClient<paths>({ baseUrl });

// One event as a single object, with only the fields the server needs.
const one = await api.POST("/api/events", { body: { userId: "ts-client", itemId: knownItem } });
conforms("/api/events", "post", one.response, one.data);
if (one.response.status !== 202 || one.data?.recorded !== 1) throw new Error(`single event: ${one.response.status}`);

// A batch, with types and an idempotency key.
const batch = await api.POST("/api/events", { body: [
  { userId: "ts-client", itemId: knownItem, type: "purchase", eventId: "ts-1" },
  { userId: "ts-client", itemId: knownItem, type: "purchase", eventId: "ts-1" },
] });
conforms("/api/events", "post", batch.response, batch.data);
if (batch.data?.duplicates !== 1) throw new Error(`batch: ${JSON.stringify(batch.data)}`);

const recommended = await api.GET("/api/users/{userId}/recommendations", { params: { path: { userId: "ts-client" }, query: { count: 5 } } });
conforms("/api/users/{userId}/recommendations", "get", recommended.response, recommended.data);
if (recommended.data?.items.length !== 5) throw new Error(`recommendations: ${JSON.stringify(recommended.data)}`);

const history = await api.GET("/api/users/{userId}/history", { params: { path: { userId: "ts-client" } } });
conforms("/api/users/{userId}/history", "get", history.response, history.data);

const upsert = await api.PUT("/api/items", {
  body: { itemId: "TS-ITEM-1", title: "Typed client test serum", price: 19.5, categories: [["Beauty", "Serums"]] },
  headers: { "X-Api-Key": catalogKey },
});
conforms("/api/items", "put", upsert.response, upsert.data);
if (upsert.response.status !== 200) throw new Error(`upsert: ${upsert.response.status}`);

const item = await api.GET("/api/items/{itemId}", { params: { path: { itemId: "TS-ITEM-1" } } });
conforms("/api/items/{itemId}", "get", item.response, item.data);
const ids = item.data!.semanticIds;
const first = Object.values(ids)[0];
if (first) {
  const prefix = await api.GET("/api/ids/{c1}", { params: { path: { c1: first[0] }, query: { limit: 10 } } });
  conforms("/api/ids/{c1}", "get", prefix.response, prefix.data);
}

const missing = await api.GET("/api/items/{itemId}", { params: { path: { itemId: "ts-no-such-item" } } });
conforms("/api/items/{itemId}", "get", missing.response, missing.error);
if (missing.response.status !== 404) throw new Error(`missing item: ${missing.response.status}`);

const search = await api.GET("/api/search", { params: { query: { q: "serum", count: 5 } } });
conforms("/api/search", "get", search.response, search.data);

const bad = await api.GET("/api/search", { params: { query: { q: "" } } });
conforms("/api/search", "get", bad.response, bad.error);
if (bad.response.status !== 400) throw new Error(`empty query: ${bad.response.status}`);

// The admin flow a backfill job's operator runs: versions, an unknown job, no key.
const versions = await api.GET("/api/admin/versions", { headers: { "X-Api-Key": adminKey } });
conforms("/api/admin/versions", "get", versions.response, versions.data);
const job = await api.GET("/api/admin/backfills/{jobId}", { params: { path: { jobId: "ts-no-such-job" } }, headers: { "X-Api-Key": adminKey } });
conforms("/api/admin/backfills/{jobId}", "get", job.response, job.error);
if (job.response.status !== 404) throw new Error(`unknown job: ${job.response.status}`);
const anonymous = await api.GET("/api/admin/versions", {});
conforms("/api/admin/versions", "get", anonymous.response, anonymous.error);
if (anonymous.response.status !== 401) throw new Error(`no key: ${anonymous.response.status}`);

console.log(`ok: ${checked} responses conform to the document`);
