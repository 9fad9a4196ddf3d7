# nestjs-pg-backup standalone server.
# Build stage: full dependencies (TypeScript), compile src/ and migrations/ to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# Runtime stage: production dependencies and the PostgreSQL 15 client tools.
FROM node:20-bookworm-slim
# Debian bookworm's postgresql-client is postgresql-client-15 (pg_dump, pg_restore, psql under
# /usr/lib/postgresql/15/bin, found automatically). For a newer server major, install
# postgresql-client-<major> from the PGDG repository (apt.postgresql.org) instead.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client zstd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY ui ./ui
# The server keeps backup files 0600 in a 0700 directory it must own.
RUN mkdir -p /backups && chown node:node /backups
USER node
ENV PORT=3000 BACKUP_DIR=/backups
EXPOSE 3000
VOLUME ["/backups"]
CMD ["node", "dist/src/main.js"]
