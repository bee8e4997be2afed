import Logging
import UVLoop

/// What every session of one server shares: its settings, room, loop, log and console.
///
/// One object for all connections, so each connection's task holds a single reference to it
/// rather than copies — an idle connection's memory is mostly the frames of its task.
public final class SessionContext {
    /// The server's settings.
    public let configuration: ChatConfiguration
    /// The room every participant is in.
    public let room: Room
    /// The loop the sessions run on.
    public let loop: Loop
    /// Where joins, leaves, refusals and disconnections are logged.
    public let log: Logger
    /// Where plain mode's console lines go.
    public let console: Console

    /// The context of the server whose accept loop started the current task, if any. Tasks
    /// spawned from that loop inherit it, so a session finds its server without capturing it.
    @TaskLocal public static var current: LoopBound<SessionContext>?

    /// Bundles what the sessions of one server share.
    public init(configuration: ChatConfiguration, room: Room, loop: Loop, log: Logger, console: Console) {
        self.configuration = configuration
        self.room = room
        self.loop = loop
        self.log = log
        self.console = console
    }
}
