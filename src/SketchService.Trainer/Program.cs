using SketchService.Trainer;

return Commands.Run(args);
