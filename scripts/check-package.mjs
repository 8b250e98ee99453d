// Packs the package as `npm publish` would and checks the tarball: publint (the package.json
// fields, the exports and the files they name) and Are the Types Wrong (the declarations as
// TypeScript resolves them with node16/nodenext and bundler; ESM only, so CommonJS `require`
// is not a target). Any message of either, a suggestion included, fails the check.
//
//   node scripts/check-package.mjs      (npm run check:package)
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { publint } from "publint"
import { formatMessage } from "publint/utils"

const root = join(import.meta.dirname, "..")
const out = mkdtempSync(join(tmpdir(), "erc-check-package-"))
let failed = false
try {
  // `npm pack` runs `prepack` (the build) first; its file list (on stderr) is summed up below.
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", out], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"]
    })
  )
  const tarball = join(out, packed[0].filename)
  console.log(`packed ${packed[0].filename}: ${packed[0].entryCount} files, ${packed[0].size} bytes`)

  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const { messages } = await publint({ pack: { tarball: readFileSync(tarball).buffer }, level: "suggestion" })
  for (const message of messages) console.error(`publint ${message.type}: ${formatMessage(message, pkg)}`)
  if (messages.length > 0) failed = true
  else console.log("publint: no message")

  const attw = join(root, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js")
  const result = spawnSync(process.execPath, [
    attw,
    tarball,
    "--profile",
    "esm-only",
    "--format",
    "table",
    "--no-color"
  ], {
    cwd: root,
    stdio: "inherit"
  })
  if (result.status !== 0) failed = true
} finally {
  rmSync(out, { recursive: true, force: true })
}
if (failed) {
  console.error("check:package: problems found (above)")
  process.exit(1)
}
console.log("check:package: publint and attw report no problem")
