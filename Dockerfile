# The service image used by docker-compose (production profile). Node 20 LTS, non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY public ./public
COPY package.json ./
USER node
EXPOSE 3000
# The heap and GC helper settings of `npm run start:prod` (see docs/performance.md); NODE_OPTIONS can change them.
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=32 --v8-pool-size=0"
CMD ["node", "dist/src/main.js"]
