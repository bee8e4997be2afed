// Hummingbird 2 on one event loop: `GET /` answers `hello\n` (text/plain), like HTTPExample.
import Hummingbird
import NIOPosix

var port = 8083
if let index = CommandLine.arguments.firstIndex(of: "--port"), index + 1 < CommandLine.arguments.count,
    let value = Int(CommandLine.arguments[index + 1])
{
    port = value
}
let router = Router()
router.get("/") { _, _ -> String in "hello\n" }
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port)),
    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup(numberOfThreads: 1))
)
print("HummingbirdHello listening on 127.0.0.1:\(port)")
try await app.runService()
