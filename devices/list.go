package devices

// List returns the capture devices found on this machine.
// CONTRACT STUB until capture lands.
func List() []DeviceInfo { return nil }
