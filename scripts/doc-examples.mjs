// Type-checks the ```ts examples of the JSDoc of the public modules (src/**/*.ts but
// src/internal): each example becomes a module of its own in .doc-examples/, compiled by
// tsconfig.doc-examples.json, which imports the package by its name as a user would. Errors
// are reported at the line of the example in its source file.
//
//   node scripts/doc-examples.mjs            generate and check
//   node scripts/doc-examples.mjs --generate generate only
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"

const root = join(import.meta.dirname, "..")
const sourceDir = join(root, "src")
const outDir = join(root, ".doc-examples")
const tsconfig = "tsconfig.doc-examples.json"

/** The public modules: src/**\/*.ts outside src/internal. */
const sourceFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === "internal" ? [] : sourceFiles(path)
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : []
  }).sort()

const declaration =
  /^(\s*)(?:export\s+)?(?:declare\s+)?(?:abstract\s+)?(?:const|let|var|function\*?|class|interface|type|namespace|enum)\s+([\w$]+)/
const member = /^(\s*)(?:static\s+)?(?:readonly\s+)?(?:get\s+)?([\w$]+)\s*[(:<?=]/

/** The name of what the comment ending at `end` documents, e.g. `RequestCache.layer`. */
const documentedName = (lines, end, scopes) => {
  for (let i = end + 1; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === "" || line.trim().startsWith("@")) continue
    if (/^\s*import\s/.test(line)) return "module"
    const match = declaration.exec(line) ?? member.exec(line)
    if (!match) return `line${end + 2}`
    const indent = match[1].length
    const outer = scopes.filter((scope) => scope.indent < indent).map((scope) => scope.name)
    return [...outer, match[2]].join(".")
  }
  return "module"
}

/** The examples of one file: `{ name, line, code: [{ text, column }] }`, line 1-based. */
const extract = (file) => {
  const lines = readFileSync(file, "utf8").split("\n")
  const examples = []
  // The classes and namespaces open at a line, to name their members.
  const scopes = []
  let inComment = false
  let fence
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!inComment) {
      const open = /^(\s*)(?:export\s+)?(?:declare\s+)?(?:class|namespace)\s+([\w$]+)/.exec(line)
      if (open) {
        while (scopes.length > 0 && scopes.at(-1).indent >= open[1].length) scopes.pop()
        scopes.push({ indent: open[1].length, name: open[2] })
      } else if (/^\S/.test(line) && !line.startsWith("}")) {
        scopes.length = 0
      }
      if (/^\s*\/\*\*/.test(line) && !line.includes("*/")) inComment = true
      continue
    }
    if (/\*\//.test(line)) {
      inComment = false
      if (fence) throw new Error(`${relative(root, file)}:${fence.line}: unclosed \`\`\` in a JSDoc comment`)
      for (const example of examples) example.name ??= documentedName(lines, i, scopes)
      continue
    }
    const prefix = /^\s*\* ?/.exec(line)
    const column = prefix ? prefix[0].length : 0
    const text = line.slice(column)
    if (!fence) {
      if (/^```(ts|typescript)\s*$/.test(text)) {
        fence = { name: undefined, line: i + 2, code: [] }
      }
    } else if (/^```\s*$/.test(text)) {
      examples.push(fence)
      fence = undefined
    } else {
      fence.code.push({ text, column })
    }
  }
  return examples
}

const generate = () => {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  /** Generated file -> where its example is, to report errors there. */
  const origins = new Map()
  for (const file of sourceFiles(sourceDir)) {
    const module = relative(sourceDir, file).replace(/\.ts$/, "").replaceAll("/", ".")
    // Counted without case: `methodCache` and `MethodCache` must not share a file name.
    const counts = new Map()
    for (const example of extract(file)) {
      const n = (counts.get(example.name.toLowerCase()) ?? 0) + 1
      counts.set(example.name.toLowerCase(), n)
      const out = `${module}.${example.name}.${n}.ts`
      const header = `// ${
        relative(root, file)
      }:${example.line} (${module}.${example.name}), by scripts/doc-examples.mjs`
      writeFileSync(join(outDir, out), [header, ...example.code.map((c) => c.text), "export {}", ""].join("\n"))
      origins.set(out, { file: relative(root, file), example, headerLines: 1 })
    }
  }
  return origins
}

const check = (origins) => {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
  const result = spawnSync(process.execPath, [tsc, "-p", tsconfig, "--noEmit", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8"
  })
  if (result.error) throw result.error
  const output = `${result.stdout}${result.stderr}`
  const located = /^(.*?)\((\d+),(\d+)\): (.*)$/
  let failures = 0
  const report = output.split("\n").map((line) => {
    if (/error TS\d+/.test(line)) failures++
    const match = located.exec(line)
    if (!match) return line
    const [, path, lineText, columnText, message] = match
    const origin = origins.get(relative(outDir, join(root, path)))
    if (!origin) return line
    const index = Number(lineText) - 1 - origin.headerLines
    const code = origin.example.code[index]
    const where = code === undefined
      ? `${origin.file}:${origin.example.line}`
      : `${origin.file}:${origin.example.line + index}:${Number(columnText) + code.column}`
    return `${where} - ${message} (example of ${path.replace(/^\.doc-examples\//, "").replace(/\.ts$/, "")})`
  })
  const text = report.join("\n").trim()
  if (text !== "") console.error(text)
  if (result.status !== 0) {
    console.error(`doc examples: ${failures} error(s) in ${origins.size} examples`)
    process.exit(result.status ?? 1)
  }
  console.log(`doc examples: ${origins.size} examples compile`)
}

const origins = generate()
if (!process.argv.includes("--generate")) check(origins)
