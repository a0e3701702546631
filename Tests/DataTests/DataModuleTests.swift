// Atlas — DataTests
// SPDX-License-Identifier: Apache-2.0

import AtlasTestSupport
import DataPlatform
import Testing

@Test func dataModuleOwnsItsTablePrefix() {
    #expect(DataModule.tablePrefix == "data_")
}
