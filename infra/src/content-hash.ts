import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The content hash of a Docker build context: every file the context sends to
 * the daemon (.dockerignore honoured), by relative path, content and executable
 * bit, in a stable order. It tags the image, so a change to any input rebuilds
 * and pushes a new immutable tag, and nothing else does.
 */
export function hashBuildContext(contextDir: string, dockerfile = 'Dockerfile'): string {
  const hash = createHash('sha256');
  for (const file of buildContextFiles(contextDir, dockerfile)) {
    const path = join(contextDir, file);
    const stat = lstatSync(path);
    const content = stat.isSymbolicLink() ? Buffer.from(`symlink:${readlinkSync(path)}`) : readFileSync(path);
    hash
      .update(file)
      .update('\0')
      .update(stat.mode & 0o111 ? 'x' : '-')
      .update('\0')
      .update(content)
      .update('\0');
  }
  return hash.digest('hex');
}

/** Relative POSIX paths of the files a build of `contextDir` sends, sorted. */
export function buildContextFiles(contextDir: string, dockerfile = 'Dockerfile'): string[] {
  const ignorePath = join(contextDir, '.dockerignore');
  const rules = existsSync(ignorePath) ? parseDockerignore(readFileSync(ignorePath, 'utf8')) : [];
  const files: string[] = [];
  walk(contextDir, '', rules, files);
  // Docker always sends the Dockerfile and .dockerignore, even when they are ignored.
  for (const always of [dockerfile, '.dockerignore']) {
    if (existsSync(join(contextDir, always)) && !files.includes(always)) files.push(always);
  }
  return files.sort();
}

interface IgnoreRule {
  pattern: string;
  regex: RegExp;
  exception: boolean;
}

/** .dockerignore syntax: `#` comments, `!` exceptions, `*`, `?`, `**`; a leading `/` is the context root. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    const pattern = line.replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
    if (!pattern) continue;
    rules.push({ pattern, regex: globToRegExp(pattern), exception });
  }
  return rules;
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more directories; a trailing `**` matches everything below.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Docker's rule: the last matching pattern wins, and a pattern matching a parent directory matches the file. */
export function isIgnored(relPath: string, rules: IgnoreRule[]): boolean {
  const segments = relPath.split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.exception;
  }
  return ignored;
}

/** Whether an exception rule could re-include something below an ignored directory. */
function mayReinclude(dir: string, rules: IgnoreRule[]): boolean {
  return rules.some((rule) => {
    if (!rule.exception) return false;
    const literal = rule.pattern.split(/[*?[]/)[0] ?? '';
    return literal.startsWith(`${dir}/`) || `${dir}/`.startsWith(literal);
  });
}

function walk(root: string, rel: string, rules: IgnoreRule[], files: string[]): void {
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (isIgnored(path, rules) && !mayReinclude(path, rules)) continue;
      walk(root, path, rules, files);
    } else if (!isIgnored(path, rules)) {
      files.push(path);
    }
  }
}
