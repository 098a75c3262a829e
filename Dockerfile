# gem-watch: a multi-stage build on Node 22 LTS. The final image holds the compiled JavaScript, the
# production dependencies and config/default.yaml, runs as the unprivileged `node` user, and starts
# node itself (not npm), so SIGTERM from `docker stop` reaches the daemon and it stops gracefully.

# --- build: compile TypeScript (npm ci runs the `prepare` script, which is `npm run build`) ---
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY config ./config
RUN npm ci --no-audit --no-fund

# --- deps: production dependencies only; `prepare` needs the compiler, so it is dropped here ---
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm pkg delete scripts.prepare && npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# V8 sizes its heap from the host's memory, and with gigabytes to spare lets it grow to about four
# times what is live before a full collection: a daemon watching 50,000 jobs held ~360 MB of RSS for
# ~50 MB of live data (npm run bench, BENCHMARKS.md). A 512 MB old space makes V8 collect sooner and
# 8 MB semi-spaces (16 MB by default) halve the young generation: ~210 MB, for about a tenth more
# CPU. Allow ~2 KB per tracked job (a list answer is parsed whole): raise --max-old-space-size
# beyond ~200,000 jobs with -e NODE_OPTIONS=..., which replaces both flags.
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=8"
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root config ./config
# The code is owned by root and read-only to the process; it runs as `node` (uid 1000).
USER node
EXPOSE 9464
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "run"]
