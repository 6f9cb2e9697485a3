namespace Depot.Tests;

/// <summary>
/// <see cref="ErrorKinds.MessageOf"/>: what hosts print for an error. The platform's file-system wording becomes the
/// path and what is wrong with it; Depot's own messages and anything else pass unchanged.
/// </summary>
public class ErrorMessageTests
{
    [Fact]
    public void FileSystemFailuresAreSaidAsThePathAndWhatIsWrong()
    {
        Assert.Equal("/srv/cache/x: permission denied (check who owns it and its mode, or choose a path this user may "
            + "write)", ErrorKinds.MessageOf(new UnauthorizedAccessException("Access to the path '/srv/cache/x' is "
            + "denied.")));
        Assert.Equal("/no/such/dir/f: a folder on this path does not exist", ErrorKinds.MessageOf(
            new DirectoryNotFoundException("Could not find a part of the path '/no/such/dir/f'.")));
        Assert.Equal("/tmp/f: no such file", ErrorKinds.MessageOf(new FileNotFoundException("Could not find file "
            + "'/tmp/f'.")));
        Assert.Equal("/tmp/a-file: exists already",
            ErrorKinds.MessageOf(new IOException("The file '/tmp/a-file' already exists.")));
    }

    [Fact]
    public void DepotMessagesAndOtherTextPassUnchanged()
    {
        Assert.Equal("x: 'quoted' stays", ErrorKinds.MessageOf(new DepotException("x: 'quoted' stays")));
        Assert.Equal("No space left on device", ErrorKinds.MessageOf(new IOException("No space left on device")));
        Assert.Equal("first line", ErrorKinds.MessageOf(new HttpRequestException("first line\n   at somewhere")));
    }
}
