using LMIndexer.Core.Runtime;

namespace LMIndexer.Core.Tests.Runtime;

public sealed class OutputFolderLockTests
{
    [Fact]
    public void A_claimed_folder_refuses_a_second_claim_until_the_first_is_released()
    {
        var root = Path.Combine(Path.GetTempPath(), "lock-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (OutputFolderLock.Acquire(root))
            {
                Assert.True(File.Exists(Path.Combine(root, OutputFolderLock.FileName)), "the folder is created with its lock file");
                var second = Assert.Throws<InvalidOperationException>(() => OutputFolderLock.Acquire(root));
                Assert.Contains("is in use by another run", second.Message, StringComparison.Ordinal);
            }
            using var again = OutputFolderLock.Acquire(root);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
