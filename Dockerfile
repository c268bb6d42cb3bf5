# Multi-stage build: a static faldone binary (templates, locales, fonts, web
# assets and the comuni registry are embedded) on a minimal, non-root image.
# CI replays the build stage's COPY and RUN steps (.ci/dockerfile-replay).
FROM golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
# Modules first, so a code change reuses the cached download; the replace
# target of go.mod must be there before the download.
COPY go.mod go.sum ./
COPY internal/third_party/gofpdf ./internal/third_party/gofpdf
RUN go mod download && go mod verify
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/faldone ./cmd/faldone \
 && /out/faldone version \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/faldone /usr/local/bin/faldone
COPY --from=build --chown=nonroot:nonroot /out/data /data
COPY templates /usr/share/faldone/templates
COPY LICENSE /usr/share/doc/faldone/LICENSE
COPY fonts/OFL.txt /usr/share/doc/faldone/fonts-OFL.txt
COPY internal/comuni/LICENSE.md /usr/share/doc/faldone/comuni-LICENSE.md
ENV FALDONE_ADDR=:8080 FALDONE_DATA=/data FALDONE_LOG_FORMAT=json
USER nonroot:nonroot
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/faldone", "health"]
ENTRYPOINT ["/usr/local/bin/faldone"]
CMD ["serve"]
