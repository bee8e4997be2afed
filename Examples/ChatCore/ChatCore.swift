// The chat protocol's loop-free parts (commands, names, text cleaning, flood limits) are part of
// ChatCore's API: `import ChatCore` brings them too.
@_exported import ChatProtocol
