# syntax=docker/dockerfile:1
# The tickets server as a container image: the server package packed exactly as
# `npm pack -w apps/server` packs it, installed with its production dependencies only, run by an
# unprivileged user, its SQLite file and signing secret in the /data volume.
#
#   docker build -t tickets-server .
#   docker run -p 8080:8080 -v tickets-data:/data tickets-server
#
# Configuration is the server's environment (tickets-server --help); secrets may come from files
# (TICKETS_SECRET_FILE, DATABASE_URL_FILE). The demo tenant is opt-in: -e TICKETS_DEMO=on.
#
# The port is the PORT variable (-e PORT=9000 -p 9000:9000), never a `--port` flag, and the address
# the HOST variable, never `--host`: the health check reads the same PORT and HOST to find the
# server, so a flag would move the server but not the check, and the container would be reported
# unhealthy.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. Build: the workspace from its lockfile, then the server's tarball (prepack bundles it).
FROM ${NODE_IMAGE} AS build
# swagger-ui-dist depends on @scarf/scarf, whose install script reports downloads: not from here.
ENV SCARF_ANALYTICS=false
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json LICENSE ./
COPY packages ./packages
COPY apps ./apps
COPY deploy/tarball-folder.ts ./deploy/
RUN npm ci --no-audit --no-fund --ignore-scripts \
  && npm rebuild better-sqlite3 \
  && npm pack -w apps/server --pack-destination /tmp

# 2. Install: the tarball into an empty folder, production dependencies only, at the versions
#    package-lock.json pins, the ones the tests ran against. `npm install` of the bare tarball would
#    take whatever the registry has that day within the ranges of package.json; instead the
#    folder's own lockfile is cut from the repository's (deploy/tarball-folder.ts, with the helper
#    that packedTarball.test.ts installs the tarball with) and `npm ci` installs exactly that lock,
#    its tarballs checked against the lock's integrity hashes and found in the cache stage 1 filled.
#    better-sqlite3 compiles here when no prebuilt binary can be fetched, hence stage 1's toolchain.
FROM build AS install
WORKDIR /app
RUN cd /src && node --import tsx deploy/tarball-folder.ts /tmp/tickets-server-*.tgz /app \
  && cd /app && npm ci --no-audit --no-fund \
  && npm cache clean --force

# 3. Run: Node and the installed package, nothing else.
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX=2: glibc's malloc keeps two arenas instead of one per thread that ever
# allocated, each holding on to what it freed; MALLOC_MMAP_THRESHOLD_: blocks of 128 KiB and more
# are given back when freed, however large the blocks freed before (docs/operating.md, "Memory").
ENV NODE_ENV=production \
  MALLOC_ARENA_MAX=2 \
  MALLOC_MMAP_THRESHOLD_=131072 \
  PATH=/app/node_modules/.bin:$PATH \
  HOST=0.0.0.0 \
  PORT=8080 \
  TICKETS_DATA_DIR=/data
WORKDIR /app
COPY --from=install /app/node_modules ./node_modules
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# Asks the address and port the server listens on, from HOST and PORT as the server reads them (the
# image sets no --host or --port flag; see above): loopback when HOST means every interface
# (127.0.0.1 for 0.0.0.0 or unset, [::1] for ::), and HOST itself when the operator names one
# address, since the server does not answer on 127.0.0.1 then.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const h = process.env.HOST || '0.0.0.0'; const a = h === '0.0.0.0' ? '127.0.0.1' : h === '::' ? '::1' : h; fetch('http://' + (a.includes(':') ? '[' + a + ']' : a) + ':' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size=2: V8's young generation stays at two 2 MiB semi-spaces instead of
# growing to two 16 MiB ones under load: 14-24 MiB less peak memory for a few percent more CPU
# per request (docs/operating.md, "Memory"). --no-allocation-site-pretenuring: objects V8 would otherwise come
# to allocate straight into the old generation (the pg driver's results under the list page's
# load) die young instead (same section). Only node's own arguments can set them, not the server.
ENTRYPOINT ["node", "--max-semi-space-size=2", "--no-allocation-site-pretenuring", "/app/node_modules/@tickets/server/bin/tickets-server.js"]
CMD ["serve"]
