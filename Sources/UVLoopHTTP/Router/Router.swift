#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Routes requests by method and path to handlers; paths may hold parameters (`:id`) and end
/// in a wildcard (`*`).
///
/// ```swift
/// var router = Router()
/// router.get("/") { _, _ in .text("hello\n") }
/// router.get("/users/:id") { _, context in .text("user \(context.parameters["id"] ?? "")\n") }
/// router.post("/echo") { request, _ in
///     HTTPServerResponse(status: .ok) { body in
///         for try await chunk in request.body { try await body.write(chunk) }
///     }
/// }
/// let server = HTTPServer(router: router)
/// ```
///
/// A path that matches with another method answers 405 with `Allow`; no match, ``notFound``.
/// `HEAD` falls back to the `GET` route (the server sends no body).
///
/// A handler that never waits (a closure without `await`, like `/` above) is taken as a
/// ``SynchronousHandler``: for a request without a body on a path without parameters, the
/// server then answers it where it reads it, without resuming the connection's task (see
/// ``HTTPServer/SynchronousHandler``).
public struct Router {
    /// A handler of routed requests.
    public typealias Handler = HTTPServer.Handler
    /// A handler of routed requests that answers without waiting.
    public typealias SynchronousHandler = HTTPServer.SynchronousHandler

    fileprivate enum Segment {
        case literal(Substring)
        case parameter(String)
        case wildcard
    }

    fileprivate struct Route {
        let method: HTTPRequest.Method
        let segments: [Segment]
        /// The handler; for a synchronous one, a closure calling it.
        let handler: Handler
        let synchronous: SynchronousHandler?
    }

    /// Routes without parameters, by path.
    private var exact: [Substring: [Route]] = [:]
    /// The same routes while they are few (at most ``maxListedPaths`` paths), for a request's
    /// path to be compared byte for byte with each: no `String`, no hashing, and (an object
    /// made anew on each change) no copy of the router's arrays per request.
    private(set) var listed: ListedPaths?
    private static let maxListedPaths = 16

    /// Paths one after another, where each ends, and the methods and handlers of each. Never
    /// changed. The server keeps it apart from the router: asking it copies no router.
    final class ListedPaths {
        let paths: [UInt8]
        let ends: [Int]
        /// Routes, not (method, handler) tuples: a closure kept in a tuple of an array is
        /// stored reabstracted, and taking it out allocates a thunk.
        fileprivate let routes: [[Route]]
        /// Each path's `GET` handler, as ``Router/pick(_:method:)`` picks it: most requests are
        /// `GET`s, found without a look at the path's other routes. Only the handler: taking a
        /// whole `Route` out copies (retains and releases) its method and segments too.
        fileprivate let getHandlers: [GetHandler?]
        /// Whether any of the routes has a synchronous handler: if none, the server does not
        /// look at a request's path before parsing its head.
        let hasSynchronousHandlers: Bool

        /// A `GET` route's handlers, in a struct for the reason ``routes`` holds `Route`s.
        fileprivate struct GetHandler {
            let handler: Handler
            let synchronous: SynchronousHandler?
        }

        fileprivate init(_ exact: [Substring: [Route]]) {
            var paths: [UInt8] = []
            var ends: [Int] = []
            var routes: [[Route]] = []
            var getHandlers: [GetHandler?] = []
            for (path, pathRoutes) in exact {
                paths += path.utf8
                ends.append(paths.count)
                routes.append(pathRoutes)
                getHandlers.append(
                    Router.pick(pathRoutes, method: .get).map {
                        GetHandler(handler: pathRoutes[$0].handler, synchronous: pathRoutes[$0].synchronous)
                    })
            }
            self.paths = paths
            self.ends = ends
            self.routes = routes
            self.getHandlers = getHandlers
            hasSynchronousHandlers = routes.contains { $0.contains { $0.synchronous != nil } }
        }

        /// The handler of the route whose path is exactly the request's, for its method (for
        /// `HEAD`, else the first `GET` one), as ``Router/resolve(_:context:)`` would pick it;
        /// nil leaves the request to that.
        func handler(for request: HTTPServerRequest) -> Handler? {
            guard let index = request.withPathBytes({ index(of: $0) }) else { return nil }
            return handler(at: index, method: request.method)
        }

        /// ``handler(for:)`` for a request target as received (path and query): the server
        /// asks with its parsed head, before (and without) looking into the request it made.
        func handler(target: Bytes, method: HTTPRequest.Method) -> Handler? {
            guard let found = index(target: target) else { return nil }
            return handler(at: found, method: method)
        }

        /// The synchronous handler ``handler(at:method:)`` picks, if it is one.
        func synchronousHandler(at index: Int, method: HTTPRequest.Method) -> SynchronousHandler? {
            if method == .get { return getHandlers[index]?.synchronous }
            let candidates = routes[index]
            guard let pick = Router.pick(candidates, method: method) else { return nil }
            return candidates[pick].synchronous
        }

        /// The position of a request target's path (the target up to its query), for
        /// ``handler(at:method:)``.
        func index(target: Bytes) -> Int? {
            target.withUnsafeBytes { target in
                let end = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
                return index(of: UnsafeRawBufferPointer(rebasing: target[..<end]))
            }
        }

        /// The handler for `method` of the path at `index` (``index(target:)``).
        func handler(at index: Int, method: HTTPRequest.Method) -> Handler? {
            if method == .get { return getHandlers[index]?.handler }
            let candidates = routes[index]
            guard let pick = Router.pick(candidates, method: method) else { return nil }
            return candidates[pick].handler
        }

        /// The position in ``routes`` of `path`, compared byte for byte; nil leaves the request
        /// to the general search (which also normalises the path).
        func index(of path: UnsafeRawBufferPointer) -> Int? {
            paths.withUnsafeBytes { paths in
                var start = 0
                for index in ends.indices {
                    let end = ends[index]
                    // Force-unwraps: both spans hold the same count of bytes, more than zero.
                    if end - start == path.count && path.count > 0
                        && memcmp(paths.baseAddress! + start, path.baseAddress!, path.count) == 0
                    {
                        return index
                    }
                    start = end
                }
                return nil
            }
        }
    }
    private var patterns: [Route] = []

    /// Answers requests no route matches (default: 404, `not found`).
    public var notFound: Handler = { _, _ in .text("not found\n", status: .notFound) }

    /// A router with no routes.
    public init() {}

    /// Routes `method` requests for `path` to `handler`.
    public mutating func on(_ method: HTTPRequest.Method, _ path: String, use handler: @escaping Handler) {
        add(method, path, handler: handler, synchronous: nil)
    }

    /// Routes `method` requests for `path` to `handler`, which answers without waiting.
    public mutating func on(_ method: HTTPRequest.Method, _ path: String, use handler: @escaping SynchronousHandler) {
        add(method, path, handler: { request, context in try handler(request, context) }, synchronous: handler)
    }

    private mutating func add(
        _ method: HTTPRequest.Method, _ path: String, handler: @escaping Handler, synchronous: SynchronousHandler?
    ) {
        let segments: [Segment] = path.split(separator: "/").map { part in
            if part == "*" { return .wildcard }
            if part.first == ":" { return .parameter(String(part.dropFirst())) }
            return .literal(part)
        }
        let route = Route(method: method, segments: segments, handler: handler, synchronous: synchronous)
        let isExact = segments.allSatisfy { if case .literal = $0 { true } else { false } }
        if isExact {
            let key = Self.normalized(path)
            exact[Substring(key), default: []].append(route)
            listed = exact.count <= Self.maxListedPaths ? ListedPaths(exact) : nil
        } else {
            patterns.append(route)
        }
    }

    /// Routes `GET` requests for `path`.
    public mutating func get(_ path: String, use handler: @escaping Handler) { on(.get, path, use: handler) }
    /// Routes `POST` requests for `path`.
    public mutating func post(_ path: String, use handler: @escaping Handler) { on(.post, path, use: handler) }
    /// Routes `PUT` requests for `path`.
    public mutating func put(_ path: String, use handler: @escaping Handler) { on(.put, path, use: handler) }
    /// Routes `PATCH` requests for `path`.
    public mutating func patch(_ path: String, use handler: @escaping Handler) { on(.patch, path, use: handler) }
    /// Routes `DELETE` requests for `path`.
    public mutating func delete(_ path: String, use handler: @escaping Handler) { on(.delete, path, use: handler) }

    /// Routes `GET` requests for `path` to a handler that answers without waiting.
    public mutating func get(_ path: String, use handler: @escaping SynchronousHandler) { on(.get, path, use: handler) }
    /// Routes `POST` requests for `path` to a handler that answers without waiting.
    public mutating func post(_ path: String, use handler: @escaping SynchronousHandler) { on(.post, path, use: handler) }
    /// Routes `PUT` requests for `path` to a handler that answers without waiting.
    public mutating func put(_ path: String, use handler: @escaping SynchronousHandler) { on(.put, path, use: handler) }
    /// Routes `PATCH` requests for `path` to a handler that answers without waiting.
    public mutating func patch(_ path: String, use handler: @escaping SynchronousHandler) { on(.patch, path, use: handler) }
    /// Routes `DELETE` requests for `path` to a handler that answers without waiting.
    public mutating func delete(_ path: String, use handler: @escaping SynchronousHandler) {
        on(.delete, path, use: handler)
    }

    private static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// Answers `request` with the matching route's handler.
    public func handle(_ request: HTTPServerRequest, context: HTTPRequestContext) async throws -> HTTPServerResponse {
        let (handler, context) = resolve(request, context: context)
        return try await handler(request, context)
    }

    /// The handler for `request` and the context to call it with (path parameters added).
    /// Not async, so the server can call the handler itself, without `handle`'s frame and the
    /// executor checks at its entry and after the handler returns.
    func resolve(_ request: HTTPServerRequest, context: HTTPRequestContext) -> (Handler, HTTPRequestContext) {
        let method = request.method
        if let handler = listed?.handler(for: request) { return (handler, context) }
        let path = request.path
        var allowed: [HTTPRequest.Method] = []
        if let routes = exact[path]
            ?? (path.contains("//") || (path.count > 1 && path.hasSuffix("/")) ? exact[Substring(Self.normalized(String(path)))] : nil)
        {
            if let index = Self.pick(routes, method: method) { return (routes[index].handler, context) }
            allowed += routes.map(\.method)
        }
        let parts = path.split(separator: "/")
        var matches: [Route] = []
        var contexts: [HTTPRequestContext] = []
        for route in patterns {
            var matched = context
            if Self.match(route.segments, parts, into: &matched.parameters) {
                matches.append(route)
                contexts.append(matched)
                allowed.append(route.method)
            }
        }
        if let index = Self.pick(matches, method: method) { return (matches[index].handler, contexts[index]) }
        if allowed.isEmpty { return (notFound, context) }
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return ({ _, _ in Self.methodNotAllowed(allow: allow) }, context)
    }

    private static func methodNotAllowed(allow: String) -> HTTPServerResponse {
        var fields = HTTPFields()
        fields[.allow] = allow
        fields[.contentType] = "text/plain; charset=utf-8"
        return HTTPServerResponse(status: .methodNotAllowed, headerFields: fields, body: "method not allowed\n")
    }

    /// The index of the route for `method` (for `HEAD`, else the first `GET` one). Not generic,
    /// and it copies no route: it runs for every request.
    private static func pick(_ routes: [Route], method: HTTPRequest.Method) -> Int? {
        var fallback: Int?
        for index in routes.indices {
            let candidate = routes[index].method
            if candidate == method { return index }
            if method == .head && candidate == .get && fallback == nil { fallback = index }
        }
        return fallback
    }

    private static func match(_ segments: [Segment], _ parts: [Substring], into parameters: inout HTTPPathParameters) -> Bool {
        var index = 0
        for segment in segments {
            switch segment {
            case .wildcard:
                return true
            case .literal(let literal):
                guard index < parts.count, parts[index] == literal else { return false }
            case .parameter(let name):
                guard index < parts.count else { return false }
                parameters.append(name, parts[index])
            }
            index += 1
        }
        return index == parts.count
    }
}
