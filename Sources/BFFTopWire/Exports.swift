// The event model, encoder and platform helpers live one layer down in BFFTopProtocol (which the
// BFFTopMetrics library product uses without this module's build flags); every user of the
// decoders sees them through here as before.
@_exported import BFFTopProtocol
