# syntax=docker/dockerfile:1.7
# The web server (SSR + the hydrate bundle), without the services in it (feature `remote`):
# in Kubernetes the ingress sends /api to the services, and server functions call them by URL.
# cargo-leptos 0.3.11 --locked needs rustc 1.96 or later (its cargo-util-schemas pin).
ARG RUST_VERSION=1.96

FROM rust:${RUST_VERSION}-slim-bookworm AS tools
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm make && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
    && cargo install cargo-chef --locked --version 0.1.73 \
    && cargo install cargo-leptos --locked --version 0.3.11 --features no_downloads \
    && cargo install wasm-bindgen-cli --locked --version 0.2.130
WORKDIR /src

FROM tools AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM tools AS builder
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json -p server --no-default-features --features remote
COPY style/package.json style/package-lock.json style/
RUN cd style && npm ci
ENV PATH=/src/style/node_modules/.bin:$PATH
COPY . .
RUN cargo leptos build --release --cargo-locked --precompress --split --bin-features remote --bin-cargo-args=--no-default-features \
    && mkdir /out && cp target/release/server /out/server && cp -r target/site /out/site

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out /app
WORKDIR /app
USER nonroot:nonroot
ENV LEPTOS_SITE_ADDR=0.0.0.0:3000 LEPTOS_SITE_ROOT=site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=ticketing \
    LEPTOS_ENV=PROD LOG_FORMAT=json APP_ENV=production
EXPOSE 3000
ENTRYPOINT ["/app/server"]
