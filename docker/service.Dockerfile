# syntax=docker/dockerfile:1.7
# One image per service: docker build -f docker/service.Dockerfile --build-arg SERVICE=orders .
# The services built for Kubernetes talk to a SurrealDB server over WebSocket (feature `remote`),
# so the embedded storage engines (and their build time) stay out of the image.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.73
WORKDIR /src

# The dependency recipe changes only when a Cargo.toml or Cargo.lock does.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG SERVICE
COPY --from=planner /src/recipe.json recipe.json
# Dependencies alone: this layer is reused until the recipe changes.
RUN cargo chef cook --release --locked --recipe-path recipe.json \
    -p ${SERVICE} --no-default-features --features remote
COPY . .
RUN cargo build --release --locked -p ${SERVICE} --no-default-features --features remote --bin ${SERVICE} \
    && cp target/release/${SERVICE} /service

# glibc and CA roots, no shell, runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /service /service
USER nonroot:nonroot
ENV HOST=0.0.0.0 PORT=3000 APP_ENV=production LOG_FORMAT=json
EXPOSE 3000
ENTRYPOINT ["/service"]
