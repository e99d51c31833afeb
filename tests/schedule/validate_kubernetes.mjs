// Validates Kubernetes objects offline against the API's OpenAPI schema
// (npm package kubernetes-models), since kubectl wants an API server even
// for --dry-run=client.
//
//   node validate_kubernetes.mjs FILE NODE_MODULES
//
// FILE holds one object, or a List (kind: List, items: [...]). Each object is
// matched to its kubernetes-models class by apiVersion and kind and
// validated. Prints "ok KIND/NAME" per valid object; exits 1 after naming
// every invalid one and its schema error, 2 when it cannot run at all.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [file, nodeModules] = process.argv.slice(2);
if (!file || !nodeModules) {
  console.error("usage: node validate_kubernetes.mjs FILE NODE_MODULES");
  process.exit(2);
}
const require = createRequire(join(nodeModules, "onair-validate.cjs"));

function modelClass(apiVersion, kind) {
  // "v1" lives in kubernetes-models/v1, "apps/v1" in kubernetes-models/apps/v1.
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion ?? ""))
    throw new Error(`apiVersion ${JSON.stringify(apiVersion)} is not GROUP/VERSION or VERSION`);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind ?? ""))
    throw new Error(`kind ${JSON.stringify(kind)} is not a Kubernetes kind`);
  let module;
  try {
    module = require(`kubernetes-models/${apiVersion}/${kind}`);
  } catch (error) {
    if (error.code === "MODULE_NOT_FOUND")
      throw new Error(`no schema for ${apiVersion} ${kind} in kubernetes-models`);
    throw error;
  }
  return module[kind];
}

let objects;
try {
  const document = JSON.parse(readFileSync(file, "utf8"));
  objects = document.kind === "List" ? document.items : [document];
  if (!Array.isArray(objects)) throw new Error("a List without items");
} catch (error) {
  console.error(`${file}: ${error.message}`);
  process.exit(2);
}
try {
  require.resolve("kubernetes-models/package.json");
} catch {
  console.error(`kubernetes-models is not installed in ${nodeModules} (run npm ci at the repository root)`);
  process.exit(2);
}

let failures = 0;
for (const [index, object] of objects.entries()) {
  const name = `${object?.kind ?? "?"}/${object?.metadata?.name ?? `#${index}`}`;
  try {
    const Model = modelClass(object.apiVersion, object.kind);
    new Model(object).validate();
    console.log(`ok ${name}`);
  } catch (error) {
    failures++;
    const details = error.errors ? JSON.stringify(error.errors) : "";
    console.error(`invalid ${name}: ${error.message} ${details}`.trimEnd());
  }
}
process.exit(failures ? 1 : 0);
