// Atlas — atlas
// SPDX-License-Identifier: Apache-2.0

import HTTP

/// The OpenAPI document, built once: the text is fixed at compile time, so every request shares
/// one response and the handler runs inline on the event loop.
private let openAPIResponse = Response.json(rawJSON: EmbeddedAPIDocument.json)

/// Mounts `GET /openapi.json`, the document embedded from docs/api/openapi.json at build time.
func mountOpenAPI(on router: Router) {
    router.inline.get("/openapi.json") { _, _ in openAPIResponse }
}
