# gem-watch: a multi-stage build. The runtime is Node 22 LTS (node:22-bookworm-slim): the build
# stage runs the unit tests on it, while the development machines and CI test on Node 20
# (package.json engines: >=20.19). The final image holds the compiled JavaScript, the production
# dependencies only (no compiler, no test tools, none of the demo's packages such as smtp-server)
# and config/default.yaml, and runs as the unprivileged `node` user.
#
# Signals: node itself is PID 1, with no init in front. The kernel drops any signal PID 1 has no
# handler for, but gem-watch handles SIGTERM and SIGINT itself (a graceful stop; tested as PID 1 in
# test/container-pid1.e2e.test.ts), so `docker stop` and the kubelet stop it cleanly. Its only
# children are a GEM_BEARER_TOKEN_COMMAND's, which it waits for; if such a command leaves
# grandchildren behind, run the container with an init (`docker run --init`, compose `init: true`)
# so that they are reaped.
#
# Build: docker build --build-arg VERSION=$(node -p "require('./package.json').version") \
#          --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repository URL> -t gem-watch .

# --- build: compile TypeScript (npm ci runs the `prepare` script, which is `npm run build`) and run
# the unit tests (src/**/*.test.ts: pure, no Redis or child process) on the runtime's Node ---
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json vitest.unit.config.ts ./
COPY src ./src
COPY config ./config
# The two things of test/ that unit tests beside their code read (.dockerignore lets only these in).
COPY test/fixtures ./test/fixtures
COPY test/helpers/slack-texts.ts ./test/helpers/slack-texts.ts
RUN npm ci --no-audit --no-fund
RUN npm run test:unit

# --- deps: production dependencies only; `prepare` needs the compiler, so it is dropped here ---
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm pkg delete scripts.prepare && npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:22-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="gem-watch" \
      org.opencontainers.image.description="Watches TomTom GEM jobs and announces every job that finishes or fails in Slack and by email." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:22-bookworm-slim"
ENV NODE_ENV=production
# V8 sizes its heap from the host's memory, and with gigabytes to spare lets it grow to about four
# times what is live before a full collection: a daemon watching 50,000 jobs held ~360 MB of RSS for
# ~50 MB of live data (npm run bench, BENCHMARKS.md). A 512 MB old space makes V8 collect sooner and
# 8 MB semi-spaces (16 MB by default) halve the young generation: ~210 MB, for about a tenth more
# CPU. Allow ~2 KB per tracked job (a list answer is parsed whole): raise --max-old-space-size
# beyond ~200,000 jobs with -e NODE_OPTIONS=..., which replaces both flags. deploy/kubernetes sets
# the same flags beside its memory limit.
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
# The image has no curl: node's own fetch asks /healthz, which needs no token, on the ops port when
# HTTP_OPS_PORT is set, else on HTTP_PORT. (Kubernetes ignores HEALTHCHECK and uses its probes.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_OPS_PORT || process.env.HTTP_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli.js", "run"]
